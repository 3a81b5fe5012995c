"""What TensorBoard shows of a run besides its scalars, as Summary messages built without TensorFlow:
the HParams plugin's session start (the run's params, grouped under its name) and end (how it ended),
text (the run's name and its resolved config) and images (the figures a recipe saves as PNG)."""

import json
import struct
import time
from collections.abc import Mapping
from typing import Any, Optional

from tensorboard.compat.proto.summary_pb2 import Summary, SummaryMetadata
from tensorboard.plugins.hparams import api_pb2, plugin_data_pb2
from tensorboard.plugins.hparams import metadata as hparams_metadata
from tensorboard.plugins.hparams import summary_v2 as hparams_summary
from tensorboard.util import tensor_util

# How a run ended, by the event that ends it, in the HParams Status column (which has no "interrupted").
END_STATUS = {"end": api_pb2.STATUS_SUCCESS, "interrupted": api_pb2.STATUS_UNKNOWN,
              "diverged": api_pb2.STATUS_FAILURE}


def flat_params(config: Mapping[str, Any], prefix: str = "") -> dict:
    """The config as dotted keys (name, task, tags, and the sweep and card sections left out), as mlx's params:
    lists as their JSON text,
    None as the text "null" (HParams holds numbers, booleans and text only)."""
    flat = {}
    for key, value in config.items():
        if not prefix and key in ("name", "task", "tags", "sweep", "card"):
            continue
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            flat.update(flat_params(value, path))
        elif isinstance(value, (bool, int, float, str)):
            flat[path] = value
        else:
            flat[path] = json.dumps(value)
    return flat


def session_start(config: Mapping[str, Any], group: str, start_time: Optional[float] = None) -> Summary:
    """The HParams session start: the run's params, the group (the run's `<name>-<id>`) it is shown under."""
    return hparams_summary.hparams_pb(flat_params(config), trial_id=group, start_time_secs=start_time or time.time())


def session_end(status: int, end_time: Optional[float] = None) -> Summary:
    info = plugin_data_pb2.SessionEndInfo(status=status, end_time_secs=end_time or time.time())
    data = plugin_data_pb2.HParamsPluginData(session_end_info=info, version=hparams_metadata.PLUGIN_DATA_VERSION)
    content = data.SerializeToString()
    meta = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name=hparams_metadata.PLUGIN_NAME,
                                                                  content=content))
    return Summary(value=[Summary.Value(tag=hparams_metadata.SESSION_END_INFO_TAG, metadata=meta,
                                        tensor=hparams_metadata.NULL_TENSOR)])


def text(tag: str, markdown: str) -> Summary:
    """Text for TensorBoard's Text dashboard (it renders Markdown)."""
    import numpy as np

    meta = SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name="text"))
    tensor = tensor_util.make_tensor_proto(np.array(markdown.encode("utf-8"), dtype=object))
    return Summary(value=[Summary.Value(tag=tag, metadata=meta, tensor=tensor)])


def config_markdown(config: Mapping[str, Any]) -> str:
    """The resolved config as a Markdown code block (four spaces: the Text dashboard keeps its layout)."""
    return "\n".join("    " + line for line in json.dumps(config, indent=2).splitlines())


def png_size(data: bytes) -> Optional[tuple]:
    """A PNG's width and height from its header; None when the bytes are no PNG."""
    if len(data) < 24 or data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", data[16:24])


def image(tag: str, data: bytes) -> Optional[Summary]:
    """A PNG for TensorBoard's Images dashboard; None when the bytes are no PNG."""
    size = png_size(data)
    if size is None:
        return None
    width, height = size
    return Summary(value=[Summary.Value(tag=tag, image=Summary.Image(height=height, width=width, colorspace=4,
                                                                     encoded_image_string=data))])
