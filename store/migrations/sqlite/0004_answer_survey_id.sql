-- Migration 4: survey_answers.survey_id for join-free report aggregates (backfill runs in Go after this file).
-- Frozen: never edit an applied migration; add a new file instead.

ALTER TABLE `survey_answers` ADD COLUMN `survey_id` integer NOT NULL DEFAULT 0;

CREATE INDEX `ix_answer_agg` ON `survey_answers`(`survey_id`,`question_key`,`number`);
