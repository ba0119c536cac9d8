-- No tip-off: whether a case is visible to its subject and their unit. A clarification
-- (a report against a cadre) is hidden from them until the organisation addresses the
-- cadre (an inquiry letter) or reaches a conclusion; every other case is visible from
-- its filing. Existing reports that never got that far are hidden from now on.
ALTER TABLE cases ADD COLUMN disclosed BOOLEAN NOT NULL DEFAULT TRUE;
UPDATE cases SET disclosed = FALSE
    WHERE workflow = 'clarification'
      AND NOT EXISTS (SELECT 1 FROM transitions t
                      WHERE t.case_id = cases.id
                        AND t.to_state IN ('inquiry', 'unfounded', 'substantiated', 'cleared', 'clarified'));
