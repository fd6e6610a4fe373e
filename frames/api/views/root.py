from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView


class ApiRootView(APIView):
    @extend_schema(exclude=True)
    def get(self, request):
        return Response({name: reverse(f"api:{route}", request=request) for name, route in (
            ("projects", "project-list"), ("datasets", "dataset-list"), ("jobs", "job-list"), ("schema", "schema"), ("docs", "docs"), ("token", "token"),
        )})
