"""The baseline: a bare Starlette app calling the same pipeline's predict (no key, contract, log or metrics).

Run as ``python bare.py DATA_DIR DATABASE_URL VERSION_ID PORT``; categorical fields become text (the
form the pipeline was trained on) and nothing else is checked.
"""

from __future__ import annotations

import json
import sys

import pandas as pd
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from steward.core.config import Settings
from steward.core.steward import Steward


def main() -> None:
    data_dir, url, version_id, port = sys.argv[1:5]
    steward = Steward(Settings(data_dir=data_dir, database_url=url))
    version = steward.pipelines.version_by_id(version_id)
    model = steward.pipelines.load_model(version)
    columns = [c["name"] for c in version.schema["columns"]]
    text = [c["name"] for c in version.schema["columns"] if c["kind"] == "categorical"]

    async def predict(request: Request) -> JSONResponse:
        record = json.loads(await request.body())
        frame = pd.DataFrame.from_records([record], columns=columns)
        for name in text:
            frame[name] = frame[name].astype(str)
        probability = float(model.predict_proba(frame)[0, -1])
        return JSONResponse({"predictions": [probability], "version": version.number})

    app = Starlette(routes=[Route("/predict", predict, methods=["POST"])])
    uvicorn.run(app, host="127.0.0.1", port=int(port), log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
