/* json.c - placeholder until implemented. */
typedef int json_placeholder;
