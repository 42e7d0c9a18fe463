-- Migration 5: rate_limits: platform rate limits shared by all replicas.
-- Frozen: never edit an applied migration; add a new file instead.

CREATE TABLE `rate_limits` (`rate_key` text,`tat` integer NOT NULL DEFAULT 0,`used` integer NOT NULL DEFAULT 0,`hold_until` integer NOT NULL DEFAULT 0,`strikes` integer NOT NULL DEFAULT 0,`expires_at` integer NOT NULL DEFAULT 0,PRIMARY KEY (`rate_key`));

CREATE INDEX `idx_rate_limits_expires_at` ON `rate_limits`(`expires_at`);
