/* store.c - placeholder until implemented. */
typedef int store_placeholder;
