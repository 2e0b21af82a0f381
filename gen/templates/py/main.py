"""{{name}}: the API's routes.  Add yours here; init.py holds the app and its plumbing.

Each route function's name becomes its OpenAPI operation id (see init.py).
"""

{{#streaming}}
import asyncio
from collections.abc import AsyncIterator

{{/streaming}}
from fastapi import HTTPException
{{#streaming}}
from fastapi.responses import StreamingResponse
{{/streaming}}
from pydantic import BaseModel

from .init import app, handler, logger, tracer

__all__ = ["app", "handler"]


class Item(BaseModel):
    item_id: int
    name: str


class NewItem(BaseModel):
    name: str


_ITEMS = {1: Item(item_id=1, name="first item")}


@app.get("/")
def read_root() -> dict:
    return {"message": "Hello from {{name}}"}


@app.get("/items", response_model=list[Item])
@tracer.capture_method
def list_items():
    return list(_ITEMS.values())


@app.get("/items/{item_id}", response_model=Item)
@tracer.capture_method
def get_item(item_id: int):
    item = _ITEMS.get(item_id)
    if item is None:
        raise HTTPException(status_code=404, detail=f"no item {item_id}")
    return item


@app.post("/items", response_model=Item, status_code=201)
@tracer.capture_method
def create_item(new: NewItem):
    item = Item(item_id=max(_ITEMS, default=0) + 1, name=new.name)
    _ITEMS[item.item_id] = item
    logger.info("created item", extra={"item_id": item.item_id})
    return item
{{#streaming}}


async def item_lines() -> AsyncIterator[str]:
    for item in list(_ITEMS.values()):
        yield item.model_dump_json() + "\n"
        await asyncio.sleep(0.1)


@app.get("/items-stream", response_class=StreamingResponse, openapi_extra={"x-streaming": True})
async def stream_items() -> StreamingResponse:
    """Every item as one JSON line, sent as it is produced (the Function URL streams it)."""
    return StreamingResponse(item_lines(), media_type="application/jsonl")
{{/streaming}}
