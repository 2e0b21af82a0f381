/* blob.c - placeholder until implemented. */
typedef int blob_placeholder;
