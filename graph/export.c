/* export.c - placeholder until implemented. */
typedef int export_placeholder;
