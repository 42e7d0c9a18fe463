-- Migration 9: campaigns: campaigns, variants, assignments, conversions; clicks by employee and time.
-- Frozen: never edit an applied migration; add a new file instead.

CREATE TABLE `campaign_assignments` (
  `campaign_id` bigint(20) unsigned NOT NULL,
  `employee_id` bigint(20) unsigned NOT NULL,
  `variant_id` bigint(20) unsigned NOT NULL,
  `assigned_at` datetime(3) NOT NULL,
  PRIMARY KEY (`campaign_id`,`employee_id`),
  KEY `idx_campaign_assignments_variant_id` (`variant_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `campaign_variants` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `campaign_id` bigint(20) unsigned NOT NULL,
  `name` varchar(32) NOT NULL,
  `weight` bigint(20) NOT NULL DEFAULT 1,
  `title` varchar(255) DEFAULT NULL,
  `body` text,
  `buttons` text,
  `at` datetime(3) DEFAULT NULL,
  `cron_spec` varchar(128) DEFAULT NULL,
  `touchpoint_id` bigint(20) unsigned NOT NULL,
  `created_at` datetime(3) DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `ux_campaign_variant` (`campaign_id`,`name`),
  UNIQUE KEY `idx_campaign_variants_touchpoint_id` (`touchpoint_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `campaigns` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `name` varchar(128) NOT NULL,
  `title` varchar(255) NOT NULL,
  `body` text,
  `image_url` varchar(1024) DEFAULT NULL,
  `buttons` text,
  `audience` text,
  `schedule` varchar(8) NOT NULL,
  `at` datetime(3) DEFAULT NULL,
  `cron_spec` varchar(128) DEFAULT NULL,
  `time_zone` varchar(64) NOT NULL,
  `locale` varchar(8) NOT NULL,
  `event` varchar(64) NOT NULL,
  `min_sample` bigint(20) NOT NULL DEFAULT 100,
  `min_group_size` bigint(20) NOT NULL DEFAULT 5,
  `session_id` bigint(20) unsigned NOT NULL,
  `status` varchar(16) NOT NULL DEFAULT 'scheduled',
  `created_by` varchar(128) DEFAULT NULL,
  `created_at` datetime(3) DEFAULT NULL,
  `updated_at` datetime(3) DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `idx_campaigns_session_id` (`session_id`),
  KEY `idx_campaigns_event` (`event`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `conversions` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `event_id` varchar(128) NOT NULL,
  `employee_id` bigint(20) unsigned NOT NULL,
  `event` varchar(64) NOT NULL,
  `occurred_at` datetime(3) NOT NULL,
  `source` varchar(16) NOT NULL,
  `delivery_id` bigint(20) unsigned NOT NULL DEFAULT 0,
  `touchpoint_id` bigint(20) unsigned NOT NULL DEFAULT 0,
  `campaign_id` bigint(20) unsigned NOT NULL DEFAULT 0,
  `variant_id` bigint(20) unsigned NOT NULL DEFAULT 0,
  `clicked_at` datetime(3) DEFAULT NULL,
  `window_seconds` bigint(20) NOT NULL,
  `created_at` datetime(3) DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `idx_conversions_event_id` (`event_id`),
  KEY `ix_conversion_employee` (`employee_id`,`event`),
  KEY `ix_conversion_event` (`event`,`occurred_at`),
  KEY `idx_conversions_touchpoint_id` (`touchpoint_id`),
  KEY `idx_conversions_campaign_id` (`campaign_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE INDEX `ix_clicks_employee_time` ON `clicks` (`employee_id`,`clicked_at`);
