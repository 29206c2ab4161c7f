# The webhook view as Stripe's tutorials write it
# (https://stripe.com/docs/webhooks, Python/Django), unchanged but for where
# the secret comes from.
import stripe
from django.conf import settings
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt

endpoint_secret = settings.STRIPE_WEBHOOK_SECRET


@csrf_exempt
def my_webhook_view(request):
    payload = request.body
    sig_header = request.META['HTTP_STRIPE_SIGNATURE']
    event = None

    try:
        event = stripe.Webhook.construct_event(
            payload, sig_header, endpoint_secret
        )
    except ValueError as e:
        # Invalid payload
        return HttpResponse(status=400)
    except stripe.error.SignatureVerificationError as e:
        # Invalid signature
        return HttpResponse(status=400)

    # Handle the event
    print('Received event {} {}'.format(event.id, event.type), flush=True)
    return HttpResponse(status=200)
