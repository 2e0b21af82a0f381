/* engine.c - placeholder until implemented. */
typedef int engine_placeholder;
