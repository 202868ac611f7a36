from django.contrib.auth.decorators import login_required
from django.http import JsonResponse


@login_required
def whoami(request):
    return JsonResponse({"user": request.user.get_username(), "session": request.session.session_key})


@login_required
def item(request, id):
    return JsonResponse({"id": id, "user": request.user.get_username()})
