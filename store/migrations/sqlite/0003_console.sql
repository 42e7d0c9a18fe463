-- Migration 3: console: accounts, login sessions, comment triage.
-- Frozen: never edit an applied migration; add a new file instead.

CREATE TABLE `console_accounts` (`id` integer PRIMARY KEY AUTOINCREMENT,`username` text NOT NULL,`display_name` text,`role` text NOT NULL,`department` text,`password_hash` text NOT NULL,`locale` text,`disabled` numeric NOT NULL DEFAULT false,`last_login_at` datetime,`created_at` datetime,`updated_at` datetime);

CREATE TABLE `console_comment_tags` (`id` integer PRIMARY KEY AUTOINCREMENT,`response_id` integer NOT NULL,`question_key` text NOT NULL,`tag` text NOT NULL,`follow_up_call` numeric NOT NULL DEFAULT false,`by` text NOT NULL,`at` datetime NOT NULL);

CREATE TABLE `console_login_attempts` (`id` integer PRIMARY KEY AUTOINCREMENT,`username` text NOT NULL,`ip` text NOT NULL,`success` numeric NOT NULL,`at` datetime NOT NULL);

CREATE TABLE `console_login_sessions` (`id` integer PRIMARY KEY AUTOINCREMENT,`token_hash` text NOT NULL,`account_id` integer NOT NULL,`csrf_token` text NOT NULL,`ip` text,`user_agent` text,`created_at` datetime NOT NULL,`last_seen_at` datetime NOT NULL,`expires_at` datetime NOT NULL);

CREATE INDEX `idx_console_accounts_department` ON `console_accounts`(`department`);

CREATE UNIQUE INDEX `idx_console_accounts_username` ON `console_accounts`(`username`);

CREATE INDEX `idx_console_login_sessions_account_id` ON `console_login_sessions`(`account_id`);

CREATE INDEX `idx_console_login_sessions_expires_at` ON `console_login_sessions`(`expires_at`);

CREATE UNIQUE INDEX `idx_console_login_sessions_token_hash` ON `console_login_sessions`(`token_hash`);

CREATE INDEX `ix_login_attempt_ip` ON `console_login_attempts`(`ip`,`at`);

CREATE INDEX `ix_login_attempt_user` ON `console_login_attempts`(`username`,`at`);

CREATE UNIQUE INDEX `ux_comment_tag` ON `console_comment_tags`(`response_id`,`question_key`);
