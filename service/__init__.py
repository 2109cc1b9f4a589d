"""The referral-desk HTTP service: ``create_app()`` builds the FastAPI app.

Run it with ``mednet serve`` (or ``uvicorn service.app:create_app --factory``);
the OpenAPI document is at ``/docs``.
"""
