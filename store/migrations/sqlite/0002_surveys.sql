-- Migration 2: surveys: templates, surveys, responses, answers.
-- Frozen: never edit an applied migration; add a new file instead.

CREATE TABLE `survey_answers` (`id` integer PRIMARY KEY AUTOINCREMENT,`response_id` integer NOT NULL,`question_key` text NOT NULL,`number` real,`text` text,`updated_at` datetime);

CREATE TABLE `survey_responses` (`id` integer PRIMARY KEY AUTOINCREMENT,`survey_id` integer NOT NULL,`respondent_key` text NOT NULL,`subject_id` integer NOT NULL DEFAULT 0,`respondent_id` integer,`department` text,`delivery_id` integer,`status` text NOT NULL,`source` text NOT NULL,`started_at` datetime,`submitted_at` datetime,`updated_at` datetime);

CREATE TABLE `survey_templates` (`id` integer PRIMARY KEY AUTOINCREMENT,`key` text NOT NULL,`version` integer NOT NULL,`kind` text NOT NULL,`title` text NOT NULL,`definition` text NOT NULL,`builtin` numeric NOT NULL DEFAULT false,`created_at` datetime);

CREATE TABLE `surveys` (`id` integer PRIMARY KEY AUTOINCREMENT,`template_id` integer NOT NULL,`session_id` integer NOT NULL DEFAULT 0,`course_id` integer NOT NULL DEFAULT 0,`kind` text NOT NULL,`title` text NOT NULL,`definition` text NOT NULL,`anonymous` numeric NOT NULL DEFAULT false,`min_group_size` integer NOT NULL DEFAULT 5,`opens_at` datetime,`closes_at` datetime,`status` text NOT NULL DEFAULT "open",`created_at` datetime,`updated_at` datetime);

CREATE INDEX `idx_survey_responses_respondent_id` ON `survey_responses`(`respondent_id`);

CREATE INDEX `idx_survey_responses_survey_id` ON `survey_responses`(`survey_id`);

CREATE INDEX `idx_surveys_closes_at` ON `surveys`(`closes_at`);

CREATE INDEX `idx_surveys_course_id` ON `surveys`(`course_id`);

CREATE INDEX `idx_surveys_session_id` ON `surveys`(`session_id`);

CREATE INDEX `idx_surveys_template_id` ON `surveys`(`template_id`);

CREATE UNIQUE INDEX `ux_answer` ON `survey_answers`(`response_id`,`question_key`);

CREATE UNIQUE INDEX `ux_response` ON `survey_responses`(`survey_id`,`respondent_key`,`subject_id`);

CREATE UNIQUE INDEX `ux_template` ON `survey_templates`(`key`,`version`);
