"""The Python code blocks of seeds 001 (SingleFrames) and 002 (Masks) run against a live HyperData server with
only their import line changed (`from allegroai import` -> `from hyperdata_client import`).

The blocks are copied below as the seeds print them. Where a block names things it never made, the test
provides them and says so:
- seed 001 "Adding SingleFrames" calls `myDatasetversion.add_frames(...)` and "Updating"/"Deleting" call
  `myDatasetVersion....`: neither name is defined in the seed; the test binds both to the draft version
  `SingleFrame` of dataset `MyDataset`.
- "Accessing", "Updating" and "Deleting" read frames `dcd81d094ab44e37875c13f2014530ae` (in version
  `SingleFrame`) and `f3ed0e09bf23fc947f426a0d254c652c` (in version `FrameGroup`) of dataset `MyDataset`: the
  test makes that dataset first, a published version `FrameGroup` holding both (the second a FrameGroup with
  two sources) and its draft child `SingleFrame`, which inherits them.
"""
from __future__ import annotations

from hyperdata_client import Dataset, DatasetVersion, FrameGroup, SingleFrame
from tests.sdk_live import sdk_user  # noqa: F401 (fixture)

# seed 001, "Usage > Creating a SingleFrame"
CREATING_A_SINGLEFRAME = """
from hyperdata_client import SingleFrame

frame = SingleFrame(
source='s3://my/bucket/path_to_file.jpg',
width=None,
height=None,
preview_uri='s3://my/bucket/path_to_file.jpg',
metadata=None,
annotations=None,
mask_source=None,
)
"""

# seed 001, "Adding SingleFrames to a Dataset Version"
ADDING_SINGLEFRAMES = """
from hyperdata_client import DatasetVersion, SingleFrame

# a frames list is required for adding frames
frames = []

# create a frame
frame = SingleFrame(
source='s3://my/bucket/path_to_file.jpg',
width=512,
height=512,
preview_uri='s3://my/bucket/path_to_file.jpg',
metadata={'alive':'yes'},
)

frames.append(frame)

# add frame to the Dataset version
myDatasetversion.add_frames(frames)
"""

# seed 001, "Accessing SingleFrames"
ACCESSING_SINGLEFRAMES = """
from hyperdata_client import DatasetVersion
frame = DatasetVersion.get_single_frame(
frame_id='dcd81d094ab44e37875c13f2014530ae',
dataset_name='MyDataset', # OR dataset_id='80ccb3ae11a74b91b1c6f25f98539039'
version_name='SingleFrame' # OR version_id='b07b626e3b6f4be7be170a2f39e14bfb'
)
"""

# seed 001, "Updating SingleFrames" (the block has no import line of its own)
UPDATING_SINGLEFRAMES = """
frames = []                

# get the SingleFrame
frame = DatasetVersion.get_single_frame(
frame_id='dcd81d094ab44e37875c13f2014530ae',
dataset_name='MyDataset',
version_name='SingleFrame'
)

# make changes to the frame
## add a new annotation
frame.add_annotation(
poly2d_xy=[154, 343, 209, 343, 209, 423, 154, 423],
labels=['tire'],
metadata={'alive': 'no'},
confidence=0.5
)

## add metadata
frame.meta['road_hazard'] = 'yes'

# update the SingeFrame
frames.append(frame)
myDatasetVersion.update_frames(frames)
"""

# seed 001, "Deleting Frames" (no import line of its own)
DELETING_FRAMES = """
frames = []                

# get the SingleFrame
frame = DatasetVersion.get_single_frame(
frame_id='f3ed0e09bf23fc947f426a0d254c652c',
dataset_name='MyDataset',
version_name='FrameGroup'
)

# delete the SingleFrame
frames.append(frame)
myDatasetVersion.delete_frames(frames)
"""

# seed 002, "Usage > Adding Mask Annotations"
ADDING_MASK_ANNOTATIONS = """
frame = SingleFrame(
source='/home/user/woof_meow.jpg',
preview_uri='https://storage.googleapis.com/kaggle-competitions/kaggle/3362/media/woof_meow.jpg',
)
frame.add_annotation(mask_rgb=[0, 0, 0], labels=['cat'])
"""

KEPT = "dcd81d094ab44e37875c13f2014530ae"
DELETED = "f3ed0e09bf23fc947f426a0d254c652c"


def run(block: str, **names) -> dict:
    """Run a seed block as a script would; returns its variables."""
    scope = dict(names)
    exec(compile(block, "<seed block>", "exec"), scope)
    return scope


def make_my_dataset() -> DatasetVersion:
    """Dataset `MyDataset` as the seed's blocks expect it: published `FrameGroup` with both frames, draft child
    `SingleFrame`."""
    Dataset.create(dataset_name="MyDataset", description="the seed's dataset")
    draft = DatasetVersion.get_current(dataset_name="MyDataset")
    kept = SingleFrame(id=KEPT, source="https://s3.amazonaws.com/allegro-datasets/coco/train2017/000000287024.jpg",
                       width=427, height=640, metadata={"split": "train"})
    kept.add_annotation(poly2d_xy=[[174, 189, 149, 152, 117, 107], [194, 238, 204, 250, 212, 250]], labels=["tennis racket"], confidence=1)
    group = FrameGroup(id=DELETED)
    group["front"] = SingleFrame(source="https://s3.amazonaws.com/my_cars/car_1/front.jpg", width=800, height=600)
    group["rear"] = SingleFrame(source="https://s3.amazonaws.com/my_cars/car_1/rear.jpg", width=800, height=600)
    group["front"].add_annotation(box2d_xywh=[10, 20, 30, 40], labels=["car"])
    group.add_annotation(labels=["daytime"])
    assert draft.add_frames([kept, group]) == []
    draft.publish_version(name="FrameGroup")
    return DatasetVersion.create_version(version_name="SingleFrame", dataset_name="MyDataset", parent_version_names=["FrameGroup"])


def test_seed_001_creating_a_singleframe(sdk_user):
    frame = run(CREATING_A_SINGLEFRAME)["frame"]
    assert frame.to_dict()["sources"] == [{"id": "default", "uri": "s3://my/bucket/path_to_file.jpg",
                                           "preview": {"uri": "s3://my/bucket/path_to_file.jpg"}}]
    assert frame.meta == {} and frame.get_annotations() == []


def test_seed_001_add_access_update_delete(sdk_user):
    version = make_my_dataset()

    added = run(ADDING_SINGLEFRAMES, myDatasetversion=version)
    assert added["frame"].id, "the server named the new frame and the SDK kept its id"
    stored = version.get_single_frame(added["frame"].id)
    assert (stored.source, stored.width, stored.height, stored.meta) == ("s3://my/bucket/path_to_file.jpg", 512, 512, {"alive": "yes"})
    assert stored.preview_uri == "s3://my/bucket/path_to_file.jpg"

    accessed = run(ACCESSING_SINGLEFRAMES)["frame"]
    assert accessed.id == KEPT and accessed.width == 427
    racket = accessed.get_annotations(labels="tennis racket")[0]
    assert racket.polygons == [[174, 189, 149, 152, 117, 107], [194, 238, 204, 250, 212, 250]]

    run(UPDATING_SINGLEFRAMES, DatasetVersion=DatasetVersion, myDatasetVersion=version)
    updated = DatasetVersion.get_single_frame(frame_id=KEPT, dataset_name="MyDataset", version_name="SingleFrame")
    assert updated.meta == {"split": "train", "road_hazard": "yes"}
    tire = updated.get_annotations(labels=["tire"])
    assert [(t.poly, t.confidence, t.metadata) for t in tire] == [([154, 343, 209, 343, 209, 423, 154, 423], 0.5, {"alive": "no"})]
    assert len(updated.get_annotations()) == 2  # the racket is still there

    run(DELETING_FRAMES, DatasetVersion=DatasetVersion, myDatasetVersion=version)
    assert [f.id for f in version.get_frames_by_ids([KEPT, DELETED])] == [KEPT]
    published = DatasetVersion.get_single_frame(frame_id=DELETED, dataset_name="MyDataset", version_name="FrameGroup")
    assert isinstance(published, FrameGroup) and sorted(published) == ["front", "rear"]  # the published version is unchanged
    assert [a.labels for a in published.get_annotations()] == [["daytime"]]
    assert [a.shape for a in published["front"].get_annotations()] == [{"type": "box", "xywh": [10, 20, 30, 40]}]


def test_seed_002_adding_mask_annotations(sdk_user):
    frame = run(ADDING_MASK_ANNOTATIONS, SingleFrame=SingleFrame)["frame"]
    [roi] = frame.to_dict()["rois"]
    assert (roi["labels"], roi["mask"]["value"]) == (["cat"], [0, 0, 0])
    # The frame goes to the server as it is (its source names a file that is not on this machine, so it is sent
    # as its path) and comes back with its mask annotation.
    Dataset.create(dataset_name="pets")
    draft = DatasetVersion.get_current(dataset_name="pets")
    assert draft.add_frames([frame]) == []
    [stored] = list(draft.get_iterator())
    assert stored.source == "/home/user/woof_meow.jpg"
    assert [(a.labels, a.mask["value"]) for a in stored.get_annotations()] == [(["cat"], [0, 0, 0])]
