DROP INDEX cases_ledger;
