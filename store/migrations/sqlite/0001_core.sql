-- Migration 1: core loop: roster, sessions, touchpoints, jobs, deliveries, check-ins, clicks.
-- Frozen: never edit an applied migration; add a new file instead.

CREATE TABLE `audit_logs` (`id` integer PRIMARY KEY AUTOINCREMENT,`actor` text NOT NULL,`action` text NOT NULL,`object` text,`detail` text,`created_at` datetime);

CREATE TABLE `callback_events` (`id` integer PRIMARY KEY AUTOINCREMENT,`platform` text NOT NULL,`dedup_key` text NOT NULL,`received_at` datetime NOT NULL);

CREATE TABLE `checkins` (`id` integer PRIMARY KEY AUTOINCREMENT,`session_id` integer NOT NULL,`employee_id` integer NOT NULL,`kind` text NOT NULL,`source` text NOT NULL,`platform` text,`delivery_id` integer,`checked_in_at` datetime NOT NULL,`recorded_by` text,`note` text,`created_at` datetime);

CREATE TABLE `clicks` (`id` integer PRIMARY KEY AUTOINCREMENT,`delivery_id` integer NOT NULL,`touchpoint_id` integer NOT NULL,`employee_id` integer NOT NULL,`target` text,`ua_class` text,`platform` text,`clicked_at` datetime NOT NULL);

CREATE TABLE `courses` (`id` integer PRIMARY KEY AUTOINCREMENT,`code` text NOT NULL,`title` text NOT NULL,`category` text,`target_level` integer NOT NULL DEFAULT 1,`behaviours` text,`owner` text,`created_at` datetime,`updated_at` datetime);

CREATE TABLE `deliveries` (`id` integer PRIMARY KEY AUTOINCREMENT,`touchpoint_id` integer NOT NULL,`occurrence` text NOT NULL,`employee_id` integer NOT NULL,`subject_id` integer NOT NULL DEFAULT 0,`session_id` integer NOT NULL,`key` text NOT NULL,`platform` text NOT NULL,`user_id` text NOT NULL,`status` text NOT NULL,`attempts` integer NOT NULL DEFAULT 0,`claim_token` text,`error_code` text,`error_message` text,`handle` text,`sent_at` datetime,`created_at` datetime,`updated_at` datetime);

CREATE TABLE `employees` (`id` integer PRIMARY KEY AUTOINCREMENT,`external_id` text NOT NULL,`name` text NOT NULL,`department` text,`title` text,`city` text,`manager_id` text,`email` text,`mobile` text,`platform` text,`wecom_id` text,`feishu_id` text,`dingtalk_id` text,`tags` text,`locale` text,`active` numeric NOT NULL DEFAULT true,`created_at` datetime,`updated_at` datetime);

CREATE TABLE `enrollments` (`id` integer PRIMARY KEY AUTOINCREMENT,`session_id` integer NOT NULL,`employee_id` integer NOT NULL,`status` text NOT NULL DEFAULT "invited",`note` text,`created_at` datetime,`updated_at` datetime);

CREATE TABLE `jobs` (`id` integer PRIMARY KEY AUTOINCREMENT,`kind` text NOT NULL,`unique_key` text,`payload` text,`state` text NOT NULL,`run_at` datetime NOT NULL,`attempts` integer NOT NULL DEFAULT 0,`max_attempts` integer NOT NULL DEFAULT 10,`locked_until` datetime,`locked_by` text,`last_error` text,`finished_at` datetime,`created_at` datetime,`updated_at` datetime);

CREATE TABLE `sessions` (`id` integer PRIMARY KEY AUTOINCREMENT,`course_id` integer NOT NULL,`title` text NOT NULL,`starts_at` datetime NOT NULL,`ends_at` datetime NOT NULL,`location` text,`online_url` text,`teacher_id` integer,`time_zone` text NOT NULL,`locale` text NOT NULL,`status` text NOT NULL DEFAULT "planned",`checkin_opens_before` integer NOT NULL,`checkin_grace` integer NOT NULL,`makeup_after` integer NOT NULL,`created_at` datetime,`updated_at` datetime);

CREATE TABLE `teachers` (`id` integer PRIMARY KEY AUTOINCREMENT,`name` text NOT NULL,`employee_id` text,`internal` numeric NOT NULL DEFAULT false,`created_at` datetime);

CREATE TABLE `touchpoints` (`id` integer PRIMARY KEY AUTOINCREMENT,`session_id` integer NOT NULL,`kind` text NOT NULL,`anchor` text NOT NULL,`offset` integer NOT NULL,`at` datetime,`cron_spec` text,`audience` text NOT NULL,`template` text NOT NULL,`survey_id` integer NOT NULL DEFAULT 0,`status` text NOT NULL DEFAULT "scheduled",`run_at` datetime NOT NULL,`fired_at` datetime,`note` text,`created_at` datetime,`updated_at` datetime);

CREATE INDEX `idx_audit_logs_created_at` ON `audit_logs`(`created_at`);

CREATE INDEX `idx_checkins_delivery_id` ON `checkins`(`delivery_id`);

CREATE INDEX `idx_clicks_delivery_id` ON `clicks`(`delivery_id`);

CREATE INDEX `idx_clicks_touchpoint_id` ON `clicks`(`touchpoint_id`);

CREATE UNIQUE INDEX `idx_courses_code` ON `courses`(`code`);

CREATE INDEX `idx_courses_owner` ON `courses`(`owner`);

CREATE INDEX `idx_deliveries_claim_token` ON `deliveries`(`claim_token`);

CREATE INDEX `idx_deliveries_employee_id` ON `deliveries`(`employee_id`);

CREATE UNIQUE INDEX `idx_deliveries_key` ON `deliveries`(`key`);

CREATE INDEX `idx_deliveries_session_id` ON `deliveries`(`session_id`);

CREATE INDEX `idx_deliveries_status` ON `deliveries`(`status`);

CREATE INDEX `idx_employees_department` ON `employees`(`department`);

CREATE INDEX `idx_employees_dingtalk_id` ON `employees`(`dingtalk_id`);

CREATE UNIQUE INDEX `idx_employees_external_id` ON `employees`(`external_id`);

CREATE INDEX `idx_employees_feishu_id` ON `employees`(`feishu_id`);

CREATE INDEX `idx_employees_manager_id` ON `employees`(`manager_id`);

CREATE INDEX `idx_employees_wecom_id` ON `employees`(`wecom_id`);

CREATE INDEX `idx_enrollments_employee_id` ON `enrollments`(`employee_id`);

CREATE INDEX `idx_jobs_locked_until` ON `jobs`(`locked_until`);

CREATE UNIQUE INDEX `idx_jobs_unique_key` ON `jobs`(`unique_key`);

CREATE INDEX `idx_sessions_course_id` ON `sessions`(`course_id`);

CREATE INDEX `idx_sessions_starts_at` ON `sessions`(`starts_at`);

CREATE INDEX `idx_sessions_teacher_id` ON `sessions`(`teacher_id`);

CREATE INDEX `idx_teachers_employee_id` ON `teachers`(`employee_id`);

CREATE INDEX `idx_touchpoints_session_id` ON `touchpoints`(`session_id`);

CREATE INDEX `idx_touchpoints_survey_id` ON `touchpoints`(`survey_id`);

CREATE INDEX `ix_job_due` ON `jobs`(`state`,`run_at`);

CREATE UNIQUE INDEX `ux_callback` ON `callback_events`(`platform`,`dedup_key`);

CREATE UNIQUE INDEX `ux_checkin` ON `checkins`(`session_id`,`employee_id`);

CREATE UNIQUE INDEX `ux_delivery` ON `deliveries`(`touchpoint_id`,`occurrence`,`employee_id`,`subject_id`);

CREATE UNIQUE INDEX `ux_enrollment` ON `enrollments`(`session_id`,`employee_id`);
