-- The db service suite on mysql.
require "db_suite"("mysql")
