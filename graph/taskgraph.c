/* taskgraph.c - placeholder until implemented. */
typedef int taskgraph_placeholder;
