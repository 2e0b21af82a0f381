/* hash.c - placeholder until implemented. */
typedef int hash_placeholder;
