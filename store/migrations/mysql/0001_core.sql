-- Migration 1: core loop: roster, sessions, touchpoints, jobs, deliveries, check-ins, clicks.
-- Frozen: never edit an applied migration; add a new file instead.

CREATE TABLE `audit_logs` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `actor` varchar(128) NOT NULL,
  `action` varchar(64) NOT NULL,
  `object` varchar(128) DEFAULT NULL,
  `detail` text,
  `created_at` datetime(3) DEFAULT NULL,
  PRIMARY KEY (`id`),
  KEY `idx_audit_logs_created_at` (`created_at`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `callback_events` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `platform` varchar(16) NOT NULL,
  `dedup_key` varchar(191) NOT NULL,
  `received_at` datetime(3) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `ux_callback` (`platform`,`dedup_key`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `checkins` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `session_id` bigint(20) unsigned NOT NULL,
  `employee_id` bigint(20) unsigned NOT NULL,
  `kind` varchar(16) NOT NULL,
  `source` varchar(16) NOT NULL,
  `platform` varchar(16) DEFAULT NULL,
  `delivery_id` bigint(20) unsigned DEFAULT NULL,
  `checked_in_at` datetime(3) NOT NULL,
  `recorded_by` varchar(128) DEFAULT NULL,
  `note` varchar(255) DEFAULT NULL,
  `created_at` datetime(3) DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `ux_checkin` (`session_id`,`employee_id`),
  KEY `idx_checkins_delivery_id` (`delivery_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `clicks` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `delivery_id` bigint(20) unsigned NOT NULL,
  `touchpoint_id` bigint(20) unsigned NOT NULL,
  `employee_id` bigint(20) unsigned NOT NULL,
  `target` varchar(1024) DEFAULT NULL,
  `ua_class` varchar(16) DEFAULT NULL,
  `platform` varchar(16) DEFAULT NULL,
  `clicked_at` datetime(3) NOT NULL,
  PRIMARY KEY (`id`),
  KEY `idx_clicks_delivery_id` (`delivery_id`),
  KEY `idx_clicks_touchpoint_id` (`touchpoint_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `courses` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `code` varchar(64) NOT NULL,
  `title` varchar(255) NOT NULL,
  `category` varchar(64) DEFAULT NULL,
  `target_level` bigint(20) NOT NULL DEFAULT 1,
  `behaviours` text,
  `owner` varchar(64) DEFAULT NULL,
  `created_at` datetime(3) DEFAULT NULL,
  `updated_at` datetime(3) DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `idx_courses_code` (`code`),
  KEY `idx_courses_owner` (`owner`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `deliveries` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `touchpoint_id` bigint(20) unsigned NOT NULL,
  `occurrence` varchar(32) NOT NULL,
  `employee_id` bigint(20) unsigned NOT NULL,
  `subject_id` bigint(20) unsigned NOT NULL DEFAULT 0,
  `session_id` bigint(20) unsigned NOT NULL,
  `key` varchar(96) NOT NULL,
  `platform` varchar(16) NOT NULL,
  `user_id` varchar(128) NOT NULL,
  `status` varchar(16) NOT NULL,
  `attempts` bigint(20) NOT NULL DEFAULT 0,
  `claim_token` varchar(64) DEFAULT NULL,
  `error_code` varchar(64) DEFAULT NULL,
  `error_message` varchar(1024) DEFAULT NULL,
  `handle` varchar(255) DEFAULT NULL,
  `sent_at` datetime(3) DEFAULT NULL,
  `created_at` datetime(3) DEFAULT NULL,
  `updated_at` datetime(3) DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `ux_delivery` (`touchpoint_id`,`occurrence`,`employee_id`,`subject_id`),
  UNIQUE KEY `idx_deliveries_key` (`key`),
  KEY `idx_deliveries_employee_id` (`employee_id`),
  KEY `idx_deliveries_session_id` (`session_id`),
  KEY `idx_deliveries_status` (`status`),
  KEY `idx_deliveries_claim_token` (`claim_token`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `employees` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `external_id` varchar(64) NOT NULL,
  `name` varchar(128) NOT NULL,
  `department` varchar(128) DEFAULT NULL,
  `title` varchar(128) DEFAULT NULL,
  `city` varchar(64) DEFAULT NULL,
  `manager_id` varchar(64) DEFAULT NULL,
  `email` varchar(191) DEFAULT NULL,
  `mobile` varchar(32) DEFAULT NULL,
  `platform` varchar(16) DEFAULT NULL,
  `wecom_id` varchar(128) DEFAULT NULL,
  `feishu_id` varchar(128) DEFAULT NULL,
  `dingtalk_id` varchar(128) DEFAULT NULL,
  `tags` varchar(512) DEFAULT NULL,
  `locale` varchar(8) DEFAULT NULL,
  `active` tinyint(1) NOT NULL DEFAULT 1,
  `created_at` datetime(3) DEFAULT NULL,
  `updated_at` datetime(3) DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `idx_employees_external_id` (`external_id`),
  KEY `idx_employees_department` (`department`),
  KEY `idx_employees_manager_id` (`manager_id`),
  KEY `idx_employees_wecom_id` (`wecom_id`),
  KEY `idx_employees_feishu_id` (`feishu_id`),
  KEY `idx_employees_dingtalk_id` (`dingtalk_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `enrollments` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `session_id` bigint(20) unsigned NOT NULL,
  `employee_id` bigint(20) unsigned NOT NULL,
  `status` varchar(16) NOT NULL DEFAULT 'invited',
  `note` varchar(255) DEFAULT NULL,
  `created_at` datetime(3) DEFAULT NULL,
  `updated_at` datetime(3) DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `ux_enrollment` (`session_id`,`employee_id`),
  KEY `idx_enrollments_employee_id` (`employee_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `jobs` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `kind` varchar(64) NOT NULL,
  `unique_key` varchar(191) DEFAULT NULL,
  `payload` text,
  `state` varchar(16) NOT NULL,
  `run_at` datetime(3) NOT NULL,
  `attempts` bigint(20) NOT NULL DEFAULT 0,
  `max_attempts` bigint(20) NOT NULL DEFAULT 10,
  `locked_until` datetime(3) DEFAULT NULL,
  `locked_by` varchar(128) DEFAULT NULL,
  `last_error` text,
  `finished_at` datetime(3) DEFAULT NULL,
  `created_at` datetime(3) DEFAULT NULL,
  `updated_at` datetime(3) DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `idx_jobs_unique_key` (`unique_key`),
  KEY `ix_job_due` (`state`,`run_at`),
  KEY `idx_jobs_locked_until` (`locked_until`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `sessions` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `course_id` bigint(20) unsigned NOT NULL,
  `title` varchar(255) NOT NULL,
  `starts_at` datetime(3) NOT NULL,
  `ends_at` datetime(3) NOT NULL,
  `location` varchar(255) DEFAULT NULL,
  `online_url` varchar(1024) DEFAULT NULL,
  `teacher_id` bigint(20) unsigned DEFAULT NULL,
  `time_zone` varchar(64) NOT NULL,
  `locale` varchar(8) NOT NULL,
  `status` varchar(16) NOT NULL DEFAULT 'planned',
  `checkin_opens_before` bigint(20) NOT NULL,
  `checkin_grace` bigint(20) NOT NULL,
  `makeup_after` bigint(20) NOT NULL,
  `created_at` datetime(3) DEFAULT NULL,
  `updated_at` datetime(3) DEFAULT NULL,
  PRIMARY KEY (`id`),
  KEY `idx_sessions_course_id` (`course_id`),
  KEY `idx_sessions_starts_at` (`starts_at`),
  KEY `idx_sessions_teacher_id` (`teacher_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `teachers` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `name` varchar(128) NOT NULL,
  `employee_id` varchar(64) DEFAULT NULL,
  `internal` tinyint(1) NOT NULL DEFAULT 0,
  `created_at` datetime(3) DEFAULT NULL,
  PRIMARY KEY (`id`),
  KEY `idx_teachers_employee_id` (`employee_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `touchpoints` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `session_id` bigint(20) unsigned NOT NULL,
  `kind` varchar(32) NOT NULL,
  `anchor` varchar(16) NOT NULL,
  `offset` bigint(20) NOT NULL,
  `at` datetime(3) DEFAULT NULL,
  `cron_spec` varchar(128) DEFAULT NULL,
  `audience` varchar(32) NOT NULL,
  `template` varchar(64) NOT NULL,
  `survey_id` bigint(20) unsigned NOT NULL DEFAULT 0,
  `status` varchar(16) NOT NULL DEFAULT 'scheduled',
  `run_at` datetime(3) NOT NULL,
  `fired_at` datetime(3) DEFAULT NULL,
  `note` varchar(255) DEFAULT NULL,
  `created_at` datetime(3) DEFAULT NULL,
  `updated_at` datetime(3) DEFAULT NULL,
  PRIMARY KEY (`id`),
  KEY `idx_touchpoints_session_id` (`session_id`),
  KEY `idx_touchpoints_survey_id` (`survey_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
