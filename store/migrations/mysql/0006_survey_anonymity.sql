-- Migration 6: survey anonymity: participation kept apart from answers (the anonymity data migration runs in Go after this file).
-- Frozen: never edit an applied migration; add a new file instead.

CREATE TABLE `survey_participations` (
  `survey_id` bigint(20) unsigned NOT NULL,
  `employee_id` bigint(20) unsigned NOT NULL,
  `subject_id` bigint(20) unsigned NOT NULL,
  `status` varchar(16) NOT NULL,
  PRIMARY KEY (`survey_id`,`employee_id`,`subject_id`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
