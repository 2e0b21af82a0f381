"""{{name}}: a FastAPI service deployed on AWS Lambda (see init.py and main.py)."""
