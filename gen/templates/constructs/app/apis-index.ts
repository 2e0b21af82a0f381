// One line per API construct; `bld generate py#fast-api` appends to this list.
