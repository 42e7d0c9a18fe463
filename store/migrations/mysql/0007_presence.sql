-- Migration 7: presence: per-session presence rules, venue scan evidence, survey identity requirement.
-- Frozen: never edit an applied migration; add a new file instead.

CREATE TABLE `presence_scans` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `nonce` varchar(32) NOT NULL,
  `session_id` bigint(20) unsigned NOT NULL,
  `employee_id` bigint(20) unsigned NOT NULL,
  `checkin_id` bigint(20) unsigned NOT NULL DEFAULT 0,
  `method` varchar(16) NOT NULL,
  `slot` bigint(20) NOT NULL,
  `platform` varchar(16) NOT NULL,
  `scanned_at` datetime(3) NOT NULL,
  `outcome` varchar(16) NOT NULL,
  `latitude` double DEFAULT NULL,
  `longitude` double DEFAULT NULL,
  `accuracy_m` double DEFAULT NULL,
  `distance_m` double DEFAULT NULL,
  `created_at` datetime(3) DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `idx_presence_scans_nonce` (`nonce`),
  KEY `idx_presence_scans_session_id` (`session_id`),
  KEY `idx_presence_scans_employee_id` (`employee_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `presence_settings` (
  `session_id` bigint(20) unsigned NOT NULL,
  `require_onsite` tinyint(1) NOT NULL DEFAULT 0,
  `rotate_seconds` bigint(20) NOT NULL DEFAULT 15,
  `geofence` tinyint(1) NOT NULL DEFAULT 0,
  `latitude` double NOT NULL DEFAULT 0,
  `longitude` double NOT NULL DEFAULT 0,
  `radius_meters` bigint(20) NOT NULL DEFAULT 0,
  `require_identity` tinyint(1) NOT NULL DEFAULT 0,
  `updated_by` varchar(128) DEFAULT NULL,
  `updated_at` datetime(3) DEFAULT NULL,
  PRIMARY KEY (`session_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `survey_identities` (
  `survey_id` bigint(20) unsigned NOT NULL,
  `required` tinyint(1) NOT NULL DEFAULT 0,
  `updated_by` varchar(128) DEFAULT NULL,
  `updated_at` datetime(3) DEFAULT NULL,
  PRIMARY KEY (`survey_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
