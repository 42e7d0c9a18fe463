-- Migration 5: rate_limits: platform rate limits shared by all replicas.
-- Frozen: never edit an applied migration; add a new file instead.

CREATE TABLE `rate_limits` (
  `rate_key` varchar(191) NOT NULL,
  `tat` bigint(20) NOT NULL DEFAULT 0,
  `used` bigint(20) NOT NULL DEFAULT 0,
  `hold_until` bigint(20) NOT NULL DEFAULT 0,
  `strikes` bigint(20) NOT NULL DEFAULT 0,
  `expires_at` bigint(20) NOT NULL DEFAULT 0,
  PRIMARY KEY (`rate_key`),
  KEY `idx_rate_limits_expires_at` (`expires_at`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
