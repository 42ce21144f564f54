"""The guide page, as the programme published it; the board edits it in the admin."""

from django.db import migrations

GUIDE = """Hướng dẫn cập nhật sáng kiến tham gia Chương trình "01 triệu sáng kiến".

1. Cán bộ công đoàn (tổ hỗ trợ sáng kiến) đăng nhập bằng tài khoản của đơn vị.
2. Chọn "Thêm sáng kiến", nhập tên sáng kiến, lĩnh vực, loại giải pháp, tóm tắt và mô tả bản chất (thực trạng, giải pháp), ngày áp dụng lần đầu, giá trị làm lợi (đồng) và các tác giả cùng tỷ lệ đóng góp (tổng bằng 100%).
3. Có thể "Lưu nháp" để hoàn thiện sau; khi đủ thông tin, bấm "Gửi" để chuyển Ban CSPL&QHLĐ xét.
4. Nhiều sáng kiến có thể nhập một lần từ tệp Excel theo mẫu ở trang "Nhập từ Excel".
5. Sáng kiến được yêu cầu bổ sung: xem lý do trên trang sáng kiến, bổ sung rồi gửi lại.
6. Vướng mắc trong quá trình thực hiện: gửi câu hỏi tới Ban CSPL&QHLĐ ở mục "Câu hỏi"."""


def create(apps, schema_editor):
    apps.get_model("initiatives", "Page").objects.get_or_create(
        slug="huong-dan", defaults={"title": "Hướng dẫn cập nhật sáng kiến", "body": GUIDE}
    )


class Migration(migrations.Migration):
    dependencies = [("initiatives", "0010_pages")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
