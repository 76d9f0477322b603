-- The db service suite on postgres.
require "db_suite"("postgres")
