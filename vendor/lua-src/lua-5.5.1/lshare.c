/*
** cirrus: prototypes and strings shared by every Lua state of the process.
** Not part of Lua; see vendor/README.md in the Cirrus repository.
**
** A "code cache" state (cirrus_newcodecache) loads each chunk once;
** cirrus_sharefunction then makes its prototypes and every string they
** reference immortal and shared (lshare.h), and cirrus_clonefunction
** makes a closure over those prototypes in any other state.
**
** Short strings are compared by address, so a state must use exactly one
** object for each content.  Shared short strings live in a process-wide
** set (below) that 'internshrstr' consults after the state's own table
** and before creating a string: a state whose own table has no string of
** some content uses the shared one from then on.  A state may however
** own a string that was created before an equal one became shared; a
** chunk that references such a string cannot be cloned in that state
** (cirrus_clonefunction returns 0 and the caller loads the chunk into the
** state the ordinary way, where the state's own string is found first).
**
** The shared set is an open-addressing table that only grows: slots go
** from NULL to a string once, so a reader probing without a lock finds
** every string published before its probe started (or misses one being
** published, which is harmless: see above).  A full table is copied into
** one twice its size; the old one stays allocated for readers still
** probing it (the total is at most twice the final table).  Writers
** (sharing a chunk) are serialized by 'wlock'.
*/

#define lshare_c
#define LUA_CORE

#include "lprefix.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "lua.h"
#include "lauxlib.h"
#include "lualib.h"

#include "lapi.h"
#include "lfunc.h"
#include "lgc.h"
#include "lobject.h"
#include "lshare.h"
#include "lstate.h"
#include "lstring.h"
#include "ltable.h"


/* {======================================================
** process-wide hash seed
** =======================================================
*/

/* 0 until set; then the seed with bit 32 set */
static _Atomic unsigned long long processseed = 0;

unsigned int luaS_processseed (unsigned int seed) {
  unsigned long long expected = 0;
  unsigned long long mine = (1ULL << 32) | seed;
  if (atomic_compare_exchange_strong(&processseed, &expected, mine))
    return seed;
  return (unsigned int)(expected & 0xffffffffULL);
}

/* }====================================================== */


/* {======================================================
** the shared string set
** =======================================================
*/

typedef struct SSet {
  size_t mask;  /* size - 1 (size is a power of 2) */
  _Atomic(TString *) slot[];
} SSet;

static _Atomic(SSet *) sset = NULL;
static size_t scount = 0;  /* strings in 'sset' (writers only) */
static size_t sprotos = 0;  /* prototypes shared (writers only) */
static pthread_mutex_t wlock = PTHREAD_MUTEX_INITIALIZER;


TString *luaS_sharedlookup (const char *str, size_t l, unsigned int h) {
  SSet *s = atomic_load_explicit(&sset, memory_order_acquire);
  size_t i;
  if (s == NULL)
    return NULL;
  for (i = h & s->mask; ; i = (i + 1) & s->mask) {
    TString *ts = atomic_load_explicit(&s->slot[i], memory_order_acquire);
    if (ts == NULL)
      return NULL;
    if (ts->hash == h && cast_uint(ts->shrlen) == l &&
        memcmp(str, getshrstr(ts), l * sizeof(char)) == 0)
      return ts;
  }
}


static void sset_put (SSet *s, TString *ts) {
  size_t i = ts->hash & s->mask;
  while (atomic_load_explicit(&s->slot[i], memory_order_relaxed) != NULL)
    i = (i + 1) & s->mask;
  atomic_store_explicit(&s->slot[i], ts, memory_order_release);
}


/* make room for 'n' more strings (load factor at most 1/2); 0 on failure */
static int sset_reserve (size_t n) {
  SSet *s = atomic_load_explicit(&sset, memory_order_relaxed);
  size_t size = (s == NULL) ? 0 : s->mask + 1;
  size_t nsize = (size == 0) ? 1024 : size;
  SSet *ns;
  size_t i;
  while ((scount + n) * 2 > nsize)
    nsize *= 2;
  if (nsize == size)
    return 1;
  ns = (SSet *)calloc(1, sizeof(SSet) + nsize * sizeof(_Atomic(TString *)));
  if (ns == NULL)
    return 0;
  ns->mask = nsize - 1;
  for (i = 0; i < size; i++) {
    TString *ts = atomic_load_explicit(&s->slot[i], memory_order_relaxed);
    if (ts != NULL)
      sset_put(ns, ts);
  }
  /* the old table is not freed: readers may still be probing it */
  atomic_store_explicit(&sset, ns, memory_order_release);
  return 1;
}

/* }====================================================== */


/* the stack value at 'idx' (positive or negative, not a pseudo-index) */
static TValue *valueat (lua_State *L, int idx) {
  api_check(L, idx != 0 && idx > LUA_REGISTRYINDEX, "invalid index");
  return s2v((idx > 0) ? L->ci->func.p + idx : L->top.p + idx);
}


/* {======================================================
** sharing a chunk
** =======================================================
*/

/* what cirrus_sharefunction returns; immortal */
typedef struct SharedChunk {
  Proto *p;  /* the main function's prototype */
  int nstr;  /* short strings referenced by the prototypes, each once */
  TString *str[];
} SharedChunk;


typedef struct Vec {
  void **v;
  size_t n, size;
} Vec;


static int vec_push (Vec *v, void *x) {
  if (v->n == v->size) {
    size_t nsize = (v->size == 0) ? 64 : v->size * 2;
    void **nv = (void **)realloc(v->v, nsize * sizeof(void *));
    if (nv == NULL)
      return 0;
    v->v = nv;
    v->size = nsize;
  }
  v->v[v->n++] = x;
  return 1;
}


static int cmpptr (const void *a, const void *b) {
  const char *x = *(const char *const *)a;
  const char *y = *(const char *const *)b;
  return (x < y) ? -1 : (x > y);
}


/* sort and remove duplicates */
static void vec_unique (Vec *v) {
  size_t i, j = 0;
  if (v->n == 0)
    return;
  qsort(v->v, v->n, sizeof(void *), cmpptr);
  for (i = 1; i < v->n; i++)
    if (v->v[i] != v->v[j])
      v->v[++j] = v->v[i];
  v->n = j + 1;
}


/* collect the prototypes of a tree (not shared yet) and their strings */
static int collect (Proto *f, Vec *protos, Vec *strs) {
  int i;
  if (isshared(f))  /* cannot happen for a fresh load; kept for safety */
    return 1;
  if (!vec_push(protos, f))
    return 0;
  if (f->source != NULL && !vec_push(strs, f->source))
    return 0;
  for (i = 0; i < f->sizek; i++)
    if (ttisstring(&f->k[i]) && !vec_push(strs, tsvalue(&f->k[i])))
      return 0;
  for (i = 0; i < f->sizeupvalues; i++)
    if (f->upvalues[i].name != NULL && !vec_push(strs, f->upvalues[i].name))
      return 0;
  for (i = 0; i < f->sizelocvars; i++)
    if (f->locvars[i].varname != NULL &&
        !vec_push(strs, f->locvars[i].varname))
      return 0;
  for (i = 0; i < f->sizep; i++)
    if (!collect(f->p[i], protos, strs))
      return 0;
  return 1;
}


static void makeshared (GCObject *o) {
  o->marked = cast_byte((o->marked & ~(bitmask(BLACKBIT) | WHITEBITS |
                                      AGEBITS)) | G_SHARED);
}


/*
** Share strings of the (code cache) state 'L': short ones leave its
** string table for the shared set.  'strs' is sorted and unique.
** Returns 0 (changing nothing) if memory for the set is lacking.
*/
static int sharestrings (lua_State *L, Vec *strs) {
  size_t i, nshort = 0;
  for (i = 0; i < strs->n; i++) {
    TString *ts = (TString *)strs->v[i];
    if (!isshared(ts) && strisshr(ts))
      nshort++;
  }
  if (!sset_reserve(nshort))
    return 0;
  for (i = 0; i < strs->n; i++) {
    TString *ts = (TString *)strs->v[i];
    if (isshared(ts))
      continue;
    if (strisshr(ts)) {
      luaS_remove(L, ts);  /* no longer in this state's table */
      makeshared(obj2gco(ts));
      sset_put(atomic_load_explicit(&sset, memory_order_relaxed), ts);
      scount++;
    }
    else {
      luaS_hashlongstr(ts);  /* so that no state ever writes its hash */
      makeshared(obj2gco(ts));
    }
  }
  return 1;
}


/*
** Remove shared objects from the lists of the code cache state, so that
** not even an emergency collection there can sweep (repaint) them.
*/
static void unlinkshared (global_State *g) {
  GCObject **p = &g->allgc;
  while (*p != NULL) {
    if (isshared(*p))
      *p = (*p)->next;
    else
      p = &(*p)->next;
  }
}


LUA_API lua_State *cirrus_newcodecache (void) {
  lua_State *L = luaL_newstate();
  stringtable *tb;
  Vec strs = {NULL, 0, 0};
  int i, ok = 1;
  TString *ts;
  if (L == NULL)
    return NULL;
  luaL_openlibs(L);
  lua_gc(L, LUA_GCCOLLECT);
  lua_gc(L, LUA_GCSTOP);  /* its objects are code: nothing to collect */
  /* share every string it has: reserved words, metamethod names and
     library names are then the same objects in every later state */
  tb = &G(L)->strt;
  for (i = 0; ok && i < tb->size; i++)
    for (ts = tb->hash[i]; ok && ts != NULL; ts = ts->u.hnext)
      ok = vec_push(&strs, ts);
  pthread_mutex_lock(&wlock);
  if (ok) {
    vec_unique(&strs);
    ok = sharestrings(L, &strs);
  }
  if (ok)
    unlinkshared(G(L));
  pthread_mutex_unlock(&wlock);
  free(strs.v);
  if (!ok) {
    lua_close(L);
    return NULL;
  }
  return L;
}


LUA_API const void *cirrus_sharefunction (lua_State *L, int idx) {
  const TValue *o;
  Proto *p;
  Vec protos = {NULL, 0, 0}, strs = {NULL, 0, 0};
  SharedChunk *c = NULL;
  size_t i, nshort = 0;
  lua_lock(L);
  o = valueat(L, idx);
  if (!ttisLclosure(o)) {
    lua_unlock(L);
    return NULL;
  }
  p = clLvalue(o)->p;
  pthread_mutex_lock(&wlock);
  if (!collect(p, &protos, &strs))
    goto done;
  vec_unique(&strs);
  for (i = 0; i < strs.n; i++)
    if (strisshr((TString *)strs.v[i]))
      nshort++;
  c = (SharedChunk *)malloc(sizeof(SharedChunk) + nshort * sizeof(TString *));
  if (c == NULL)
    goto done;
  if (!sharestrings(L, &strs)) {
    free(c);
    c = NULL;
    goto done;
  }
  for (i = 0; i < protos.n; i++)
    makeshared(obj2gco((Proto *)protos.v[i]));
  sprotos += protos.n;
  unlinkshared(G(L));
  c->p = p;
  c->nstr = 0;
  for (i = 0; i < strs.n; i++)
    if (strisshr((TString *)strs.v[i]))
      c->str[c->nstr++] = (TString *)strs.v[i];
 done:
  pthread_mutex_unlock(&wlock);
  free(protos.v);
  free(strs.v);
  lua_unlock(L);
  return c;
}

/* }====================================================== */


/* {======================================================
** using shared chunks
** =======================================================
*/

/* does the state own a string with the contents of shared 'ts'? */
static int hastwin (global_State *g, TString *ts) {
  stringtable *tb = &g->strt;
  TString *x;
  for (x = tb->hash[lmod(ts->hash, tb->size)]; x != NULL; x = x->u.hnext) {
    if (x->shrlen == ts->shrlen &&
        memcmp(getshrstr(x), getshrstr(ts), cast_uint(ts->shrlen)) == 0)
      return 1;
  }
  return 0;
}


LUA_API int cirrus_clonefunction (lua_State *L, const void *chunk) {
  const SharedChunk *c = (const SharedChunk *)chunk;
  LClosure *cl;
  int i;
  lua_lock(L);
  for (i = 0; i < c->nstr; i++) {
    if (hastwin(G(L), c->str[i])) {
      lua_unlock(L);
      return 0;  /* the caller loads the chunk into the state instead */
    }
  }
  luaC_checkGC(L);
  cl = luaF_newLclosure(L, c->p->sizeupvalues);
  cl->p = c->p;  /* shared: never white, so no barrier */
  setclLvalue2s(L, L->top.p, cl);
  api_incr_top(L);
  luaF_initupvals(L, cl);
  if (cl->nupvalues >= 1) {  /* as 'lua_load': 1st upvalue is the globals */
    TValue gt;
    luaH_getint(hvalue(&G(L)->l_registry), LUA_RIDX_GLOBALS, &gt);
    setobj(L, cl->upvals[0]->v.p, &gt);
    luaC_barrier(L, cl->upvals[0], &gt);
  }
  lua_unlock(L);
  return 1;
}


/* is the value at 'idx' a shared string or a closure over a shared proto? */
LUA_API int cirrus_isshared (lua_State *L, int idx) {
  int r = 0;
  lua_lock(L);
  switch (lua_type(L, idx)) {
    case LUA_TSTRING:
      r = isshared(obj2gco(tsvalue(valueat(L, idx))));
      break;
    case LUA_TFUNCTION: {
      const LClosure *cl = (const LClosure *)lua_topointer(L, idx);
      if (!lua_iscfunction(L, idx))
        r = isshared(obj2gco(cl->p));
      break;
    }
    default:
      break;
  }
  lua_unlock(L);
  return r;
}


/* strings and prototypes shared so far */
LUA_API void cirrus_sharedcount (size_t *nstrings, size_t *nprotos) {
  pthread_mutex_lock(&wlock);
  *nstrings = scount;
  *nprotos = sprotos;
  pthread_mutex_unlock(&wlock);
}

/* }====================================================== */


/*
** Restart a collector stopped with LUA_GCSTOP as if a cycle had just
** found everything allocated so far alive: the next cycle starts when the
** heap has grown by the pause (LUA_GCRESTART instead starts one at once).
** For a service state after its code loaded: what loading built is
** nearly all live, and tracing it again at once is wasted work.
*/
LUA_API void cirrus_gcrestart (lua_State *L) {
  global_State *g = G(L);
  l_mem total;
  lua_lock(L);
  total = gettotalbytes(g);
  if (g->gckind == KGC_INC)
    luaE_setdebt(g, applygcparam(g, PAUSE, total) - total);
  else  /* generational: the next minor cycle as after a major one */
    luaE_setdebt(g, applygcparam(g, MINORMUL, total));
  g->gcstp = 0;
  lua_unlock(L);
}
