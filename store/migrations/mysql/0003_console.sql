-- Migration 3: console: accounts, login sessions, comment triage.
-- Frozen: never edit an applied migration; add a new file instead.

CREATE TABLE `console_accounts` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `username` varchar(64) NOT NULL,
  `display_name` varchar(128) DEFAULT NULL,
  `role` varchar(32) NOT NULL,
  `department` varchar(128) DEFAULT NULL,
  `password_hash` varchar(255) NOT NULL,
  `locale` varchar(8) DEFAULT NULL,
  `disabled` tinyint(1) NOT NULL DEFAULT 0,
  `last_login_at` datetime(3) DEFAULT NULL,
  `created_at` datetime(3) DEFAULT NULL,
  `updated_at` datetime(3) DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `idx_console_accounts_username` (`username`),
  KEY `idx_console_accounts_department` (`department`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `console_comment_tags` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `response_id` bigint(20) unsigned NOT NULL,
  `question_key` varchar(64) NOT NULL,
  `tag` varchar(16) NOT NULL,
  `follow_up_call` tinyint(1) NOT NULL DEFAULT 0,
  `by` varchar(128) NOT NULL,
  `at` datetime(3) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `ux_comment_tag` (`response_id`,`question_key`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `console_login_attempts` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `username` varchar(64) NOT NULL,
  `ip` varchar(64) NOT NULL,
  `success` tinyint(1) NOT NULL,
  `at` datetime(3) NOT NULL,
  PRIMARY KEY (`id`),
  KEY `ix_login_attempt_user` (`username`,`at`),
  KEY `ix_login_attempt_ip` (`ip`,`at`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `console_login_sessions` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `token_hash` varchar(64) NOT NULL,
  `account_id` bigint(20) unsigned NOT NULL,
  `csrf_token` varchar(64) NOT NULL,
  `ip` varchar(64) DEFAULT NULL,
  `user_agent` varchar(255) DEFAULT NULL,
  `created_at` datetime(3) NOT NULL,
  `last_seen_at` datetime(3) NOT NULL,
  `expires_at` datetime(3) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `idx_console_login_sessions_token_hash` (`token_hash`),
  KEY `idx_console_login_sessions_account_id` (`account_id`),
  KEY `idx_console_login_sessions_expires_at` (`expires_at`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
