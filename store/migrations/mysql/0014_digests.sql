-- Migration 14: digests: digest subscriptions; a console account's own employee.
-- Frozen: never edit an applied migration; add a new file instead.

CREATE TABLE `digest_subscriptions` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `account_id` bigint(20) unsigned NOT NULL,
  `frequency` varchar(16) NOT NULL,
  `cron_spec` varchar(128) NOT NULL,
  `time_zone` varchar(64) NOT NULL,
  `platform` varchar(16) DEFAULT NULL,
  `locale` varchar(8) DEFAULT NULL,
  `session_id` bigint(20) unsigned NOT NULL,
  `touchpoint_id` bigint(20) unsigned NOT NULL,
  `created_by` varchar(128) DEFAULT NULL,
  `created_at` datetime(3) DEFAULT NULL,
  `updated_at` datetime(3) DEFAULT NULL,
  PRIMARY KEY (`id`),
  KEY `idx_digest_subscriptions_account_id` (`account_id`),
  UNIQUE KEY `idx_digest_subscriptions_session_id` (`session_id`),
  UNIQUE KEY `idx_digest_subscriptions_touchpoint_id` (`touchpoint_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

ALTER TABLE `console_accounts` ADD COLUMN `employee_id` bigint(20) unsigned NOT NULL DEFAULT 0 AFTER `department`;

CREATE INDEX `idx_console_accounts_employee_id` ON `console_accounts` (`employee_id`);
