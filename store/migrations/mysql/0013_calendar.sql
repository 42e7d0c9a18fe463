-- Migration 13: calendar: sessions' events in the platforms' calendars; per course and session invite flags.
-- Frozen: never edit an applied migration; add a new file instead.

CREATE TABLE `calendar_events` (
  `id` bigint(20) unsigned NOT NULL AUTO_INCREMENT,
  `session_id` bigint(20) unsigned NOT NULL,
  `platform` varchar(16) NOT NULL,
  `state` varchar(16) NOT NULL DEFAULT 'pending',
  `event_id` varchar(191) NOT NULL,
  `calendar_id` varchar(191) NOT NULL,
  `idem_key` varchar(64) NOT NULL,
  `attendees` text,
  `fingerprint` varchar(64) NOT NULL,
  `failures` bigint(20) NOT NULL DEFAULT 0,
  `error_code` varchar(64) NOT NULL,
  `last_error` text,
  `synced_at` datetime(3) DEFAULT NULL,
  `created_at` datetime(3) DEFAULT NULL,
  `updated_at` datetime(3) DEFAULT NULL,
  PRIMARY KEY (`id`),
  UNIQUE KEY `ux_calendar_event` (`session_id`,`platform`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

ALTER TABLE `courses` ADD COLUMN `calendar_invite` tinyint(1) DEFAULT NULL AFTER `owner`;

ALTER TABLE `sessions` ADD COLUMN `calendar_invite` tinyint(1) DEFAULT NULL AFTER `makeup_after`;
