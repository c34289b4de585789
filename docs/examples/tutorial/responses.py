"""What a handler returns, and how errors become responses."""

from ambi import App, BaseModel, HTMLResponse, HTTPException, Request, Response
from ambi.responses import JSONResponse

app = App()


class UserIn(BaseModel):
    username: str
    password: str


class UserOut(BaseModel):
    username: str


@app.post("/users", response_model=UserOut, status_code=201)
def create_user(user: UserIn):
    return user  # the password is filtered out by the response model


@app.get("/page", response_class=HTMLResponse)
def page():
    return "<h1>Hello</h1>"


@app.get("/text")
def text():
    return "plain text"  # a str is sent as text/plain


@app.get("/accepted")
def accepted():
    return {"queued": True}, 202  # a (content, status) tuple


@app.get("/cookie")
def set_cookie(response: Response):
    # headers and cookies on the response ambi renders
    response.set_cookie("seen", "yes")
    return {"ok": True}


@app.get("/items/{item_id:int}")
async def read_item(item_id: int):
    if item_id != 1:
        raise HTTPException(404, "no such item", headers={"x-error": "missing"})
    return {"item_id": 1}


class OutOfStock(Exception):
    def __init__(self, name: str) -> None:
        self.name = name


@app.exception_handler(OutOfStock)
def out_of_stock(request: Request, exc: OutOfStock):
    return JSONResponse({"detail": f"{exc.name} is out of stock"}, status_code=409)


@app.post("/orders/{name}")
async def order(name: str):
    raise OutOfStock(name)
