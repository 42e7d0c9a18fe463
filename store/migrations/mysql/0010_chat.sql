-- Migration 10: inbound chat: message de-duplication, comment prompts after a score tap, excuse requests.
-- Frozen: never edit an applied migration; add a new file instead.

CREATE TABLE `chat_messages` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `platform` varchar(16) NOT NULL,
  `message_id` varchar(128) NOT NULL,
  `outcome` varchar(16) NOT NULL,
  `received_at` datetime(3) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `ux_chat_message` (`platform`,`message_id`),
  KEY `idx_chat_messages_received_at` (`received_at`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `chat_prompts` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `employee_id` bigint(20) unsigned NOT NULL,
  `survey_id` bigint(20) unsigned NOT NULL,
  `response_id` bigint(20) unsigned NOT NULL,
  `question_key` varchar(64) NOT NULL,
  `expires_at` datetime(3) NOT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `idx_chat_prompts_employee_id` (`employee_id`),
  KEY `idx_chat_prompts_expires_at` (`expires_at`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE `excuse_requests` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `session_id` bigint(20) unsigned NOT NULL,
  `employee_id` bigint(20) unsigned NOT NULL,
  `reason` varchar(512) DEFAULT NULL,
  `status` varchar(16) NOT NULL,
  `platform` varchar(16) NOT NULL,
  `decided_by` varchar(128) DEFAULT NULL,
  `decided_at` datetime(3) DEFAULT NULL,
  `created_at` datetime(3) DEFAULT NULL,
  `updated_at` datetime(3) DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `ux_excuse_request` (`session_id`,`employee_id`),
  KEY `idx_excuse_requests_status` (`status`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
