"""HyperData's Python SDK: ClearML Hyper-Dataset classes (SingleFrame, FrameGroup, Dataset, DatasetVersion, DataView) over
HyperData's REST API. A ClearML script runs with its import line changed to `from hyperdata_client import ...`."""
from .annotations import Annotation
from .config import Config, config_path, load_config, login, save_config
from .datasets import Dataset, DatasetVersion
from .dataviews import DataView
from .errors import ApiError, ConfigError, HyperDataError, NotFoundError
from .frames import FrameGroup, SingleFrame
from .versions import FailedFrame

__all__ = [
    "Annotation", "ApiError", "Config", "ConfigError", "DataView", "Dataset", "DatasetVersion", "FailedFrame", "FrameGroup",
    "HyperDataError", "NotFoundError", "SingleFrame", "config_path", "load_config", "login", "save_config",
]
