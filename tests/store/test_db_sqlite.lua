-- The db service suite on sqlite.
require "db_suite"("sqlite")
