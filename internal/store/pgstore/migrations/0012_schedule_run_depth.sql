-- Chains of event-triggered schedule runs: a run's depth is 0 when the
-- scheduler or a person started it, and the depth of its event's cause plus
-- one when an event fired it; the scheduler cuts chains at depth 3. The cause
-- of a pipeline or background task event is the schedule run that started
-- that pipeline run or task, which the scheduler looks up by the linked id:
-- the partial indexes skip the runs that started nothing ('').
ALTER TABLE schedule_runs ADD COLUMN depth INTEGER NOT NULL DEFAULT 0 CHECK (depth >= 0);
CREATE INDEX schedule_runs_pipeline_run ON schedule_runs (pipeline_run_id) WHERE pipeline_run_id <> '';
CREATE INDEX schedule_runs_background_task ON schedule_runs (background_task_id) WHERE background_task_id <> '';
