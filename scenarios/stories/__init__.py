"""One module per story; each exports ``STORY`` (a `rustok_sim.scenarios.engine.story.Story`)
and ``run(config, seed) -> ScenarioResult``. `rustok_sim.scenarios.engine.loading.STORY_MODULES`
names them; they import on demand."""
