wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"customer_id":1,"email":"a@example.com","items":[{"sku":"a","qty":1,"price":2.5},{"sku":"b","qty":2,"price":1.0}],"note":"x","priority":2,"express":true}'
