/*
** cirrus: prototypes and strings shared by every Lua state of the process.
** Not part of Lua; see vendor/README.md in the Cirrus repository.
*/

#ifndef lshare_h
#define lshare_h

#include "lobject.h"
#include "lstate.h"

/*
** A shared object is gray (neither white nor black) and has the age
** G_SHARED, which Lua itself never uses: no state's collector marks it
** (marking only starts from white objects), no barrier fires on it
** (barriers need a black parent or a white child) and it is in no
** state's 'allgc', 'fixedgc' or string table, so nothing sweeps or
** frees it.  Shared objects are immutable: states only read them.
*/
#define G_SHARED	7
#define isshared(x)	(getage(x) == G_SHARED)

/* the hash seed of every state in the process: the first seed given wins */
LUAI_FUNC unsigned int luaS_processseed (unsigned int seed);

/* the shared short string equal to 'str' (hash 'h'), or NULL; lock-free */
LUAI_FUNC TString *luaS_sharedlookup (const char *str, size_t l,
                                       unsigned int h);

#endif
