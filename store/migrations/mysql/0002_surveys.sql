-- Migration 2: surveys: templates, surveys, responses, answers.
-- Frozen: never edit an applied migration; add a new file instead.

CREATE TABLE `survey_answers` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `response_id` bigint(20) unsigned NOT NULL,
  `question_key` varchar(64) NOT NULL,
  `number` double DEFAULT NULL,
  `text` text,
  `updated_at` datetime(3) DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `ux_answer` (`response_id`,`question_key`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `survey_responses` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `survey_id` bigint(20) unsigned NOT NULL,
  `respondent_key` varchar(96) NOT NULL,
  `subject_id` bigint(20) unsigned NOT NULL DEFAULT 0,
  `respondent_id` bigint(20) unsigned DEFAULT NULL,
  `department` varchar(128) DEFAULT NULL,
  `delivery_id` bigint(20) unsigned DEFAULT NULL,
  `status` varchar(16) NOT NULL,
  `source` varchar(16) NOT NULL,
  `started_at` datetime(3) DEFAULT NULL,
  `submitted_at` datetime(3) DEFAULT NULL,
  `updated_at` datetime(3) DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `ux_response` (`survey_id`,`respondent_key`,`subject_id`),
  KEY `idx_survey_responses_survey_id` (`survey_id`),
  KEY `idx_survey_responses_respondent_id` (`respondent_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `survey_templates` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `key` varchar(64) NOT NULL,
  `version` bigint(20) NOT NULL,
  `kind` varchar(32) NOT NULL,
  `title` varchar(255) NOT NULL,
  `definition` text NOT NULL,
  `builtin` tinyint(1) NOT NULL DEFAULT 0,
  `created_at` datetime(3) DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `ux_template` (`key`,`version`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `surveys` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `template_id` bigint(20) unsigned NOT NULL,
  `session_id` bigint(20) unsigned NOT NULL DEFAULT 0,
  `course_id` bigint(20) unsigned NOT NULL DEFAULT 0,
  `kind` varchar(32) NOT NULL,
  `title` varchar(255) NOT NULL,
  `definition` text NOT NULL,
  `anonymous` tinyint(1) NOT NULL DEFAULT 0,
  `min_group_size` bigint(20) NOT NULL DEFAULT 5,
  `opens_at` datetime(3) DEFAULT NULL,
  `closes_at` datetime(3) DEFAULT NULL,
  `status` varchar(16) NOT NULL DEFAULT 'open',
  `created_at` datetime(3) DEFAULT NULL,
  `updated_at` datetime(3) DEFAULT NULL,
  PRIMARY KEY (`id`),
  KEY `idx_surveys_template_id` (`template_id`),
  KEY `idx_surveys_session_id` (`session_id`),
  KEY `idx_surveys_course_id` (`course_id`),
  KEY `idx_surveys_closes_at` (`closes_at`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
