/* fileindex.c - placeholder until implemented. */
typedef int fileindex_placeholder;
