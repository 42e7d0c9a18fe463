-- Migration 7: presence: per-session presence rules, venue scan evidence, survey identity requirement.
-- Frozen: never edit an applied migration; add a new file instead.

CREATE TABLE `presence_scans` (`id` integer PRIMARY KEY AUTOINCREMENT,`nonce` text NOT NULL,`session_id` integer NOT NULL,`employee_id` integer NOT NULL,`checkin_id` integer NOT NULL DEFAULT 0,`method` text NOT NULL,`slot` integer NOT NULL,`platform` text NOT NULL,`scanned_at` datetime NOT NULL,`outcome` text NOT NULL,`latitude` real,`longitude` real,`accuracy_m` real,`distance_m` real,`created_at` datetime);

CREATE TABLE `presence_settings` (`session_id` integer,`require_onsite` numeric NOT NULL DEFAULT false,`rotate_seconds` integer NOT NULL DEFAULT 15,`geofence` numeric NOT NULL DEFAULT false,`latitude` real NOT NULL DEFAULT 0,`longitude` real NOT NULL DEFAULT 0,`radius_meters` integer NOT NULL DEFAULT 0,`require_identity` numeric NOT NULL DEFAULT false,`updated_by` text,`updated_at` datetime,PRIMARY KEY (`session_id`));

CREATE TABLE `survey_identities` (`survey_id` integer,`required` numeric NOT NULL DEFAULT false,`updated_by` text,`updated_at` datetime,PRIMARY KEY (`survey_id`));

CREATE INDEX `idx_presence_scans_employee_id` ON `presence_scans`(`employee_id`);

CREATE UNIQUE INDEX `idx_presence_scans_nonce` ON `presence_scans`(`nonce`);

CREATE INDEX `idx_presence_scans_session_id` ON `presence_scans`(`session_id`);
