/* metadata.c - placeholder until implemented. */
typedef int metadata_placeholder;
