-- Helper module for test_protoshare: required first by a service that already owns a string
-- equal to one of its constants (made at run time before this module was ever loaded).
local M = { key = "protoshare_late_key_8d2f" }
function M.check(t)
	return t.protoshare_late_key_8d2f
end
return M
