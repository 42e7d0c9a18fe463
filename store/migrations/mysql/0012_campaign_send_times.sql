-- Migration 12: campaign_send_times: learned send times of campaign variants; a "best" campaign schedule's window.
-- Frozen: never edit an applied migration; add a new file instead.

CREATE TABLE `campaign_send_times` (
  `variant_id` bigint(20) unsigned NOT NULL,
  `campaign_id` bigint(20) unsigned NOT NULL,
  `window_from` datetime(3) NOT NULL,
  `window_to` datetime(3) NOT NULL,
  `fallback_at` datetime(3) NOT NULL,
  `chosen_at` datetime(3) NOT NULL,
  `learned` tinyint(1) NOT NULL DEFAULT 0,
  `basis` text,
  `created_at` datetime(3) DEFAULT NULL,
  PRIMARY KEY (`variant_id`),
  KEY `idx_campaign_send_times_campaign_id` (`campaign_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

ALTER TABLE `campaigns` ADD COLUMN `window_from` datetime(3) DEFAULT NULL AFTER `cron_spec`;

ALTER TABLE `campaigns` ADD COLUMN `window_to` datetime(3) DEFAULT NULL AFTER `window_from`;
