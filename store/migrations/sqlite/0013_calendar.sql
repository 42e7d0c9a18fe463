-- Migration 13: calendar: sessions' events in the platforms' calendars; per course and session invite flags.
-- Frozen: never edit an applied migration; add a new file instead.

CREATE TABLE `calendar_events` (`id` integer PRIMARY KEY AUTOINCREMENT,`session_id` integer NOT NULL,`platform` text NOT NULL,`state` text NOT NULL DEFAULT "pending",`event_id` text NOT NULL,`calendar_id` text NOT NULL,`idem_key` text NOT NULL,`attendees` text,`fingerprint` text NOT NULL,`failures` integer NOT NULL DEFAULT 0,`error_code` text NOT NULL,`last_error` text,`synced_at` datetime,`created_at` datetime,`updated_at` datetime);

CREATE UNIQUE INDEX `ux_calendar_event` ON `calendar_events`(`session_id`,`platform`);

ALTER TABLE `courses` ADD COLUMN `calendar_invite` numeric;

ALTER TABLE `sessions` ADD COLUMN `calendar_invite` numeric;
