"""Schemas shared by every router: the error shape, required text."""

from typing import Any

from ninja import Field, Schema
from pydantic import ModelWrapValidatorHandler, ValidationInfo, model_validator


class ErrorOut(Schema):
    code: str
    message: str
    detail: dict[str, Any] = {}


# A required string the service refuses when blank. The service's own check stays (its message
# names the field, in the reader's language); this tells the OpenAPI document, so that clients
# and the contract check know an empty value is invalid.
NON_BLANK: dict[str, Any] = {"minLength": 1, "pattern": r"\S"}


def non_blank(description: str | None = None) -> Any:
    """``Field`` of a required string that may not be empty or only spaces."""
    return Field(..., description=description, json_schema_extra=NON_BLANK)


class ObjectIn(Schema):
    """A request body whose fields all have defaults. ninja's ``Schema`` reads attributes of any
    object, so without this check a body of ``5`` or ``[]`` would pass as "all defaults"; the
    OpenAPI document says ``object`` and the API keeps to it (422 naming the body)."""

    @model_validator(mode="wrap")
    @classmethod
    def _run_root_validator(
        cls, values: Any, handler: ModelWrapValidatorHandler[Any], info: ValidationInfo
    ) -> Any:
        if not isinstance(values, dict):
            raise ValueError("expected a JSON object")
        return super()._run_root_validator(values, handler, info)
