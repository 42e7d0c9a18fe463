-- Migration 14: digests: digest subscriptions; a console account's own employee.
-- Frozen: never edit an applied migration; add a new file instead.

CREATE TABLE `digest_subscriptions` (`id` integer PRIMARY KEY AUTOINCREMENT,`account_id` integer NOT NULL,`frequency` text NOT NULL,`cron_spec` text NOT NULL,`time_zone` text NOT NULL,`platform` text,`locale` text,`session_id` integer NOT NULL,`touchpoint_id` integer NOT NULL,`created_by` text,`created_at` datetime,`updated_at` datetime);

CREATE INDEX `idx_digest_subscriptions_account_id` ON `digest_subscriptions`(`account_id`);

CREATE UNIQUE INDEX `idx_digest_subscriptions_session_id` ON `digest_subscriptions`(`session_id`);

CREATE UNIQUE INDEX `idx_digest_subscriptions_touchpoint_id` ON `digest_subscriptions`(`touchpoint_id`);

ALTER TABLE `console_accounts` ADD COLUMN `employee_id` integer NOT NULL DEFAULT 0;

CREATE INDEX `idx_console_accounts_employee_id` ON `console_accounts`(`employee_id`);
