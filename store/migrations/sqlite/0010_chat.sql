-- Migration 10: inbound chat: message de-duplication, comment prompts after a score tap, excuse requests.
-- Frozen: never edit an applied migration; add a new file instead.

CREATE TABLE `chat_messages` (`id` integer PRIMARY KEY AUTOINCREMENT,`platform` text NOT NULL,`message_id` text NOT NULL,`outcome` text NOT NULL,`received_at` datetime NOT NULL);

CREATE INDEX `idx_chat_messages_received_at` ON `chat_messages`(`received_at`);

CREATE UNIQUE INDEX `ux_chat_message` ON `chat_messages`(`platform`,`message_id`);

CREATE TABLE `chat_prompts` (`id` integer PRIMARY KEY AUTOINCREMENT,`employee_id` integer NOT NULL,`survey_id` integer NOT NULL,`response_id` integer NOT NULL,`question_key` text NOT NULL,`expires_at` datetime NOT NULL);

CREATE INDEX `idx_chat_prompts_expires_at` ON `chat_prompts`(`expires_at`);

CREATE UNIQUE INDEX `idx_chat_prompts_employee_id` ON `chat_prompts`(`employee_id`);

CREATE TABLE `excuse_requests` (`id` integer PRIMARY KEY AUTOINCREMENT,`session_id` integer NOT NULL,`employee_id` integer NOT NULL,`reason` text,`status` text NOT NULL,`platform` text NOT NULL,`decided_by` text,`decided_at` datetime,`created_at` datetime,`updated_at` datetime);

CREATE INDEX `idx_excuse_requests_status` ON `excuse_requests`(`status`);

CREATE UNIQUE INDEX `ux_excuse_request` ON `excuse_requests`(`session_id`,`employee_id`);
